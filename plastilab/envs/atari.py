"""Atari 2600 games through gymnasium and ale-py, under the Machado et al. (2018) protocol.

Machado, Bellemare, Talvitie, Veness, Hausknecht & Bowling (2018), "Revisiting the Arcade Learning
Environment" (JAIR 61): sticky actions (each step repeats the previous action with probability
0.25, so a policy cannot memorise an open-loop sequence), the minimal action set, no life-loss
signal, episodes cut at 108,000 frames (30 minutes of play). The observation is the standard DQN
one (Mnih et al. 2015): every 4th frame, max-pooled over the last two, grey, 84×84, the last 4
stacked. gymnasium's ``AtariPreprocessing`` does the skipping and resizing, so the ALE env itself
runs with ``frameskip=1``.

``AtariEnv`` gives the DQN loop (``plastilab.agents.dqn.run_dqn``) what it expects of an
environment: torch observations in [0, 1], ``info["latent_state"]`` (0 here: Atari has no latent
class), and, in training, rewards clipped to their sign (Mnih et al. 2015). The unclipped return of
the last finished episode is kept in ``last_episode_return``: that is the score papers report.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from plastilab.core.errors import ScenarioError
from plastilab.core.random_state import numpy_generator_state
from plastilab.core.random_state import set_numpy_generator_state

EXTRA_HINT = "install the Atari extra: pip install 'plastilab[atari]' (gymnasium, ale-py, opencv-python-headless)"
FRAMES_PER_STEP = 4


def require_atari(source: str = "scenario") -> None:
    """Raise a one-line ``ScenarioError`` when gymnasium, ale-py or OpenCV is missing."""
    missing = []
    for module, package in (("gymnasium", "gymnasium"), ("ale_py", "ale-py"), ("cv2", "opencv-python-headless")):
        try:
            __import__(module)
        except ImportError:
            missing.append(package)
    if missing:
        raise ScenarioError(f"{source}: kind = \"atari\" needs {', '.join(missing)}; {EXTRA_HINT}")


def env_id(game: str) -> str:
    """``"Pong"`` -> ``"ALE/Pong-v5"``."""
    return f"ALE/{game}-v5"


def make_atari(
    game: str,
    *,
    sticky_actions: float = 0.25,
    max_frames: int = 108_000,
    noop_max: int = 0,
    terminal_on_life_loss: bool = False,
    frame_stack: int = 4,
    full_action_space: bool = False,
):
    """The preprocessed gymnasium env: observations are uint8 arrays (frame_stack, 84, 84).

    ``full_action_space``: all 18 joystick actions, whatever the game uses (games cycled by one
    agent share one network, so one action set: see ``atari_cycle``)."""
    import ale_py  # deferred: pulls in ale_py
    import gymnasium as gym  # deferred: pulls in gymnasium
    from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation  # deferred: pulls in gymnasium

    gym.register_envs(ale_py)
    env = gym.make(
        env_id(game),
        frameskip=1,  # AtariPreprocessing skips (and max-pools the last two frames)
        repeat_action_probability=sticky_actions,
        full_action_space=full_action_space,
        max_num_frames_per_episode=max_frames,
    )
    env = AtariPreprocessing(
        env, noop_max=noop_max, frame_skip=FRAMES_PER_STEP, screen_size=84,
        terminal_on_life_loss=terminal_on_life_loss, grayscale_obs=True, scale_obs=False,
    )
    # "reset" padding: an episode's first stack is its first frame four times
    return FrameStackObservation(env, frame_stack, padding_type="reset")


class AtariEnv:
    """A preprocessed Atari game in the form ``run_dqn`` steps: torch observations on ``device``."""

    def __init__(self, game: str, *, clip_rewards: bool, device: str | torch.device = "cpu", **options: Any) -> None:
        self.game = game
        self.env = make_atari(game, **options)
        self.clip_rewards = clip_rewards
        self.device = torch.device(device)
        self.n_actions = int(self.env.action_space.n)
        self.observation_shape = tuple(int(n) for n in self.env.observation_space.shape)
        self.episode_return = 0.0  # unclipped, of the episode under way
        self.episode_frames = 0
        self.last_episode_return: float | None = None
        self.last_episode_frames = 0
        self.frames = 0  # emulator frames over every episode (4 per agent step)
        self._last_obs: np.ndarray | None = None  # the observation shown now

    def _observe(self, obs: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.asarray(obs)).to(self.device).float().div_(255.0)

    def reset(self, seed: int | None = None) -> tuple[torch.Tensor, dict]:
        obs, info = self.env.reset(seed=seed)
        self.episode_return, self.episode_frames = 0.0, 0
        self._last_obs = obs
        return self._observe(obs), {**info, "latent_state": 0}

    def current(self) -> tuple[torch.Tensor, dict]:
        """The observation shown now, stepping nothing (a resumed agent's loop)."""
        return self._observe(self._last_obs), {"latent_state": 0}

    def state_dict(self) -> dict[str, Any]:
        """Where the game is, for a checkpoint: the emulator with its random streams, the
        preprocessing's frame buffers and lives, the frame stack, the no-op stream, the returns."""

        stack, preprocessing = self.env, self.env.env
        emulator = preprocessing.unwrapped
        return {
            "ale": torch.frombuffer(bytearray(emulator.ale.cloneState(include_rng=True).serialize()), dtype=torch.uint8),
            "np_random": numpy_generator_state(emulator.np_random),
            "obs_buffer": [torch.from_numpy(b.copy()) for b in preprocessing.obs_buffer],
            "lives": preprocessing.lives,
            "game_over": preprocessing.game_over,
            "obs_queue": [torch.from_numpy(np.asarray(o).copy()) for o in stack.obs_queue],
            "padding_value": torch.from_numpy(np.asarray(stack.padding_value).copy()),
            "last_obs": torch.from_numpy(np.asarray(self._last_obs).copy()),
            "counters": [self.episode_return, self.episode_frames, self.last_episode_return, self.last_episode_frames, self.frames],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        import ale_py  # deferred: pulls in ale_py


        stack, preprocessing = self.env, self.env.env
        self.env.reset(seed=0)  # the wrappers' order checks want a reset; everything it set is replaced below
        emulator = preprocessing.unwrapped
        emulator.ale.restoreState(ale_py.ALEState(state["ale"].numpy().tobytes()))
        set_numpy_generator_state(emulator.np_random, state["np_random"])
        for buffer, saved in zip(preprocessing.obs_buffer, state["obs_buffer"], strict=True):
            buffer[...] = saved.numpy()
        preprocessing.lives, preprocessing.game_over = int(state["lives"]), bool(state["game_over"])
        stack.obs_queue.clear()
        stack.obs_queue.extend(o.numpy().copy() for o in state["obs_queue"])
        stack.padding_value = state["padding_value"].numpy().copy()
        self._last_obs = state["last_obs"].numpy().copy()
        self.episode_return, self.episode_frames, self.last_episode_return, self.last_episode_frames, self.frames = state["counters"]

    def step(self, action: int) -> tuple[torch.Tensor, float, bool, bool, dict]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        reward = float(reward)
        self.episode_return += reward
        self.episode_frames += FRAMES_PER_STEP
        self.frames += FRAMES_PER_STEP
        if terminated or truncated:
            self.last_episode_return, self.last_episode_frames = self.episode_return, self.episode_frames
        if self.clip_rewards:
            reward = float(np.sign(reward))
        self._last_obs = obs
        return self._observe(obs), reward, bool(terminated), bool(truncated), {**info, "latent_state": 0}

    def close(self) -> None:
        self.env.close()
