"""bench/serving peer (a): a Flask app as `mlflow models serve` runs it under
gunicorn (its classic scoring server); the work per request is peer_model.score.
Run: gunicorn -w 2 -b 127.0.0.1:PORT --chdir bench/serving peer_flask:app"""
import flask

from peer_model import score

app = flask.Flask(__name__)


@app.route("/ping", methods=["GET"])
def ping():
    return flask.Response("\n", status=200, mimetype="application/json")


@app.route("/invocations", methods=["POST"])
def invocations():
    status, text = score(flask.request.get_data())
    return flask.Response(text, status=status, mimetype="application/json")
