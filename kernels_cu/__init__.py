"""Kernel sources shipped as package data."""
