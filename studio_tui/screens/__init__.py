"""Screens: one per file, styled from studio_tui/styles/."""
