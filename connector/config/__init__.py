"""Configuration: one TOML file, parsed once into typed, frozen settings."""

from connector.config.load import default_config_path, load_settings
from connector.config.secret import Secret
from connector.config.settings import Settings

__all__ = ["Secret", "Settings", "default_config_path", "load_settings"]
