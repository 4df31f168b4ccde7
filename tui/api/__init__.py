"""Talks to the OpenAI API through the official SDK. Never imports textual."""
