"""Domain transactions. Views call one service; services own the transaction,
raise ServiceError subclasses with stable codes, and announce events after commit."""
