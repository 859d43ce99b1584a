"""reporter-app core: model, config, bundle, outbox, trackers, status. No widgets here."""

__version__ = "0.1.0"
