"""sop-connector: the SOP "Layanan Permohonan Pembuatan Aplikasi" run inside Redmine and GitLab."""

__version__ = "0.1.0"
