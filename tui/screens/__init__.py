"""The Textual screens: dataset, jobs, playground, help."""
