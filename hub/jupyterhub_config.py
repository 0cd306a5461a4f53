# The embedded course hub (`make hub`, `course hub start`). Everything comes from the hub's
# state directory ($COURSE_HUB_STATE/hub.json and roster.json): see src/course/hub.py.
from course.hub.embedded import configure_from_env

configure_from_env(get_config())  # noqa: F821 - provided by traitlets when jupyterhub loads this file
