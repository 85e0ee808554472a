"""Secrets: encryption at rest on the controller, redaction, delivery."""
