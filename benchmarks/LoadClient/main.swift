print("palisade-bench: not yet")
