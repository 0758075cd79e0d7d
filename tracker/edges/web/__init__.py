"""Server-rendered pages for practitioners, managers, auditors and admins."""
