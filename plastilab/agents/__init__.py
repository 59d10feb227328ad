"""Agents: value-based RL learners whose networks the instruments can probe while they train."""
