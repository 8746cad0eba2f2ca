"""Tests of virtcore.libvirt, the libvirt-python compatible module."""
