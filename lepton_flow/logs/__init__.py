"""System logs: formats that parse lines into events (`lepton_flow.logs.formats`)."""
