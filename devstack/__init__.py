"""The local stand-in for AWS: moto server, provisioning, worker, supervisor."""
