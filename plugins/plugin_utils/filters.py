# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the collection's filters share on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError


def filter_errors(name, func):
    """`func` as the filter `name`: its own ValueError (a message meant for the user, e.g. a
    table without an id) and bad input (an unexpected shape of a registered result) become an
    AnsibleFilterError naming the filter."""

    def run(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ValueError as e:
            raise AnsibleFilterError("%s: %s" % (name, e)) from e
        except (AttributeError, KeyError, TypeError) as e:
            raise AnsibleFilterError("%s: unexpected input (%s: %s)" % (name, type(e).__name__, e)) from e

    run.__name__ = name
    return run
