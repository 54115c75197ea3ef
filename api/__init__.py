"""DocPortal's HTTP API: one Lambda handler behind API Gateway's HTTP API (see :mod:`api.app`)."""
