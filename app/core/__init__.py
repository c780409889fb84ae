"""Infrastructure every feature shares: access, refusals, states, links, time, privacy; no views."""
