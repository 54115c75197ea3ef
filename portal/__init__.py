"""The DocPortal web app (Streamlit)."""
