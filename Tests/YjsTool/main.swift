print("palisade-yjs-tool: not yet")
