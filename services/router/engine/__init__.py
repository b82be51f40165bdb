"""The assignment engine's I/O: the dispatcher (tasks meet workers) and the durable timers."""
