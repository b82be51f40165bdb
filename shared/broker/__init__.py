"""RabbitMQ plumbing: topology as data, a confirming publisher, the consume wrapper and the outbox relay."""
