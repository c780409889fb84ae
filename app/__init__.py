"""Palm Service (掌上办). The app is built by app.factory.create_app (wsgi.py calls it); this
package imports nothing itself, so importing one part of the app never builds the rest."""
