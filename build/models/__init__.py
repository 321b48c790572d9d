"""Model provisioning for executable posts: resolve declared ids, download, offline stand-ins."""
