"""clgraph.compile: function, shared variables, modes and the VM."""
