"""Reading nodes: facts are (command, parser) pairs; gathering is the only I/O here."""
