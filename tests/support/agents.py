"""A user policy plugged in by name (``--agent tests.support.agents:always_done``)."""


def always_done(obs, info):
    return {"action_type": "DONE"}
