"""The portal's pages (run by st.navigation) and what they share (shared.py)."""
