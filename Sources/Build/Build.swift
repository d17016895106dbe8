import OCI
