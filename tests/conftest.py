import os

# Tests run on the CPU, deterministic, whatever the machine has.
os.environ.setdefault("JAX_PLATFORMS", "cpu")
