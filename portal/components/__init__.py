"""The portal's own Streamlit components (HTML and JavaScript served by Streamlit itself, no build step)."""
