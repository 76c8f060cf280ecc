"""What every training and evaluation stage imports: params, names, I/O, the networks, their
objectives, checkpoints and the torch runtime. One folder, so those stages list it as one
dependency (DVC checks each dependency on every repro)."""
