"""The app the documentation's models are defined in: each document's code runs as a module of it."""
