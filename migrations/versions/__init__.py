"""Revision scripts (a package only so that they ship in the wheel)."""
