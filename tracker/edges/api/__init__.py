"""The JSON API's routers, errors, authentication and case guard.

``tracker.edges.http.create_app`` assembles them with the web pages into one application.
"""
