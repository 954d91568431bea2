"""The braintree SDK, imported once with its import-time DeprecationWarnings silenced.

braintree 4.x warns about its own deprecated names while its modules load; under
``filterwarnings = error`` that would make importing the sandbox fail.
"""

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import braintree
    import braintree.test.nonces
    import braintree.util.http
    import braintree.util.xml_util

__all__ = ["braintree"]
