"""Reflections and recommendations (phản ánh, kiến nghị): rules, photos, escalation."""
