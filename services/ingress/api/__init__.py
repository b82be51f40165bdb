"""HTTP routes of the ingress service: the Providers resource and the providers' callbacks."""
