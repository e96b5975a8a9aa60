"""Code generation: kernel sources rendered from the shared templates for a node."""
