"""The viewer: recorded episodes as pages a researcher opens first (each step's screen with its action
drawn, timings, errors, the reward and how it was scored), a sortable index of a run, and a GIF."""

from .episodes import Episode, find_episodes
from .pages import episode_gif, episode_page, index_page

__all__ = ["Episode", "episode_gif", "episode_page", "find_episodes", "index_page"]
