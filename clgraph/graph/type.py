"""Type: what values a variable may hold, and how a given value is checked into one."""


class Type:
    """Base of variable types. Subclasses define ``filter`` and equality."""

    variable_type = None   # the Variable subclass make_variable builds
    constant_type = None

    def filter(self, value, strict=False, allow_downcast=None):
        """``value`` converted to a valid value of this type, or TypeError."""
        raise NotImplementedError(f"{type(self).__name__} does not define filter")

    def make_variable(self, name=None):
        return self.variable_type(self, None, None, name)

    def __call__(self, name=None):
        return self.make_variable(name)
