"""The simulator: Modbus devices over TCP and RTU for `ews sim`, `ews demo`, `ews history seed`.

A product feature, not part of the engine: the box's runtime never imports it (import-linter).
"""
