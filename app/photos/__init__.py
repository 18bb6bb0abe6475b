"""Photos: the pipeline that checks, cleans and shrinks them, the storage that keeps them (a local
folder or S3), their intake from phones and forms, and serving them to whoever may see them.

pipeline  Pillow: decode within bounds, orientation, sRGB, display and thumbnail JPEGs
storage   local folder or S3-compatible bucket
uploads   stored once by the phone's UUID; `photo_visible` / `record_photo_estate` asked of the owners
views     /photos/<uuid>/<variant> (blueprint "photos")
"""
