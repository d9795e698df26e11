"""Training methods beside plain BPTT: real-time recurrent learning, Pascanu's regulariser, K models in one
compiled step."""
