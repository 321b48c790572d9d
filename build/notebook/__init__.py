"""The notebook vocabulary execution and convert share: cell tags (`tags`), the
output mimetype table (`mimetypes`), and image outputs stored as files beside a
notebook (`files`). Tables and pure helpers; imports only the core."""
