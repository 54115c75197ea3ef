"""Code shared by the portal, the extractor and the local stand-in."""
