"""Built-in fan-out handlers. Apps register theirs in their own module with @event_handler."""
