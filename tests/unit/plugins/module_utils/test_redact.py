# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Secret hygiene (_core/redact.py, _core/errors.py): registered secrets and credential shapes never reach a message."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import (
    AuthenticationError,
    GraphRequestError,
    OptionError,
    clip,
)
from ansible_collections.msgraph.migrations.plugins.module_utils._core.redact import MASK, Redactor

SECRET = 'Xy7~Q8.a+b/c=d"e\\f&g h'
JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhcHAifQ.c2lnbmF0dXJl'


def redactor():
    registered = []
    scrubber = Redactor(register=registered.append)
    scrubber.add(SECRET)
    return scrubber, registered


@pytest.mark.parametrize('shown', [
    SECRET,
    urlencode({'client_secret': SECRET}).split('=', 1)[1],  # as a form body carries it
    quote(SECRET, safe=''),
    json.dumps(SECRET)[1:-1],  # as a JSON string carries it
])
def test_a_registered_secret_is_scrubbed_in_every_encoding(shown):
    """Raw, form-encoded, URL-encoded and JSON-escaped, the secret becomes the mask."""
    scrubber, _registered = redactor()
    text = scrubber.scrub('the server said: client_secret=%s (rejected)' % shown)
    assert shown not in text and MASK in text and text.startswith('the server said: client_secret=')


def test_an_echoed_json_form_is_scrubbed():
    """A proxy echoing the token request inside a JSON error keeps no trace of the secret."""
    scrubber, _registered = redactor()
    echoed = json.dumps({'error': 'bad_request', 'echo': urlencode({'client_id': 'app', 'client_secret': SECRET})})
    text = scrubber.scrub(echoed)
    assert 'Xy7' not in text and MASK in text and 'client_id=app' in text


def test_every_variant_is_registered_for_ansible_no_log():
    """Ansible masks what the redactor registers, so each encoded form is registered too."""
    _scrubber, registered = redactor()
    assert SECRET in registered and quote(SECRET, safe='') in registered and json.dumps(SECRET)[1:-1] in registered


def test_jwt_shaped_strings_are_scrubbed_without_registration():
    """Tokens and assertions are masked by their shape, also when cut short after the payload."""
    scrubber = Redactor()
    assert scrubber.scrub('assertion=%s&x=1' % JWT) == 'assertion=%s&x=1' % MASK
    assert JWT.rsplit('.', 1)[0] not in scrubber.scrub('cut: %s' % JWT.rsplit('.', 1)[0])


def test_authorization_values_are_scrubbed_by_their_shape():
    scrubber = Redactor()
    assert scrubber.scrub('Authorization: Bearer abcdefgh12345678') == 'Authorization: Bearer %s' % MASK
    assert scrubber.scrub('authorization: basic dXNlcjpwYXNzd29yZA==') == 'authorization: basic %s' % MASK


def test_short_and_non_text_values_are_not_registered():
    """Values under 4 characters would mangle ordinary words; None and numbers are ignored."""
    registered = []
    scrubber = Redactor(register=registered.append)
    for value in ('abc', '  ab  ', None, 1234, ''):
        scrubber.add(value)
    assert registered == [] and scrubber.scrub('abc 1234') == 'abc 1234'


def test_the_longest_secret_wins_when_one_contains_another():
    scrubber = Redactor()
    scrubber.add('secret')
    scrubber.add('secret-and-more')
    assert scrubber.scrub('x secret-and-more y') == 'x %s y' % MASK


def test_server_text_is_one_scrubbed_printable_line_of_bounded_length():
    scrubber, _registered = redactor()
    text = scrubber.server_text('line one\r\n\tline\x00two %s %s' % (SECRET, 'z' * 500), limit=60)
    assert '\n' not in text and '\x00' not in text and SECRET not in text
    assert text.startswith('line one line?two %s' % MASK) and text.endswith('...') and len(text) == 63
    assert scrubber.server_text(None) == ''


def test_clip_shows_printable_text_of_bounded_length():
    assert clip('a\nb') == 'a?b'
    assert clip('x' * 100, 10) == 'xxxxxxxxxx... (100 characters)'
    assert clip(None) == 'None'


def test_option_error_names_the_option():
    error = OptionError('job_id', 'a GUID')
    assert error.option == 'job_id' and error.message == 'Invalid value for option job_id: expected a GUID.'


def test_authentication_error_message_and_fields():
    error = AuthenticationError('client_secret', 'login.example', 401, 'AADSTS7000215', 'invalid_client', 'Invalid client secret provided.')
    assert error.message == ('Authentication with client_secret failed: login.example refused the token request with HTTP 401 '
                             '(AADSTS7000215, invalid_client): Invalid client secret provided.')
    assert error.result['error'] == dict(code='AADSTS7000215', oauth_error='invalid_client', message='Invalid client secret provided.',
                                         host='login.example', status=401)


def test_graph_request_error_message_and_fields():
    error = GraphRequestError('Reading job x failed', 403, 'Forbidden', 'Nope', 'rid-1', hint='Grant it.', job_id='x')
    assert error.message == 'Reading job x failed: HTTP 403 Forbidden: Nope. Grant it. (request-id: rid-1)'
    assert error.result == dict(job_id='x', status_code=403, request_id='rid-1', error=dict(code='Forbidden', message='Nope'))
