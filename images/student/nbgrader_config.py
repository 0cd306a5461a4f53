# nbgrader inside the student image: the shared exchange volume and this course only.
import os

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file
c.Exchange.root = "/srv/nbgrader/exchange"
c.Exchange.path_includes_course = False
c.CourseDirectory.course_id = os.environ.get("COURSE_ID", "dl101")
