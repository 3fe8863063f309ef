"""The explorer page (`make explore`): a student watches the ViT fill a hole, layer by layer and
head by head beside the exact Bayes fill; a user paints a mask on a photo; a digit is read.

    app.py         the page's layout (Gradio Blocks), wired to page.py
    page.py        what each event does, Gradio-free: values in, pictures and messages out
    inside_vit.py  tab "Inside the ViT": samples, masks, attention, rollout, Bayes and biharmonic
    fill_photo.py  tab "Fill your photo": photos, painted masks, the fills, zoom, differences
    digits.py      tab "Digits": a drawn digit to 8x8, probabilities, rollout
    words.py       the sentence under each picture, from its numbers
    pictures.py    the drawings (patch grid with numbers, attention, rollout, fills)
    models.py      the shipped small models, RUN=, and how they ship
    serve.py       python -m vit_inpaint.explore: start the server
"""
