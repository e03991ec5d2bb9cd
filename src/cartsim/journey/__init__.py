"""The patient journey: a protocol as data, simulated from apheresis to follow-up with graded
toxicity, a management policy, response visits, failure classification and rescue."""

from cartsim.journey.batch import run_journey
from cartsim.journey.protocol import ProtocolError, load_protocol, protocol_from_mapping
from cartsim.journey.run import Journey

__all__ = ["Journey", "ProtocolError", "load_protocol", "protocol_from_mapping", "run_journey"]
