"""The ground floor: configuration, logging, metrics and limits. Every other package may
import it; it imports none of them (tests/test_layers.py)."""
